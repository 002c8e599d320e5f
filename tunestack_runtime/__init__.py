"""Run-time logic of tunestack's Lambdas: plain, typed modules that handlers call.

Nothing here reads the environment or creates AWS clients at import time; handlers pass clients in.
"""

"""tunestack's CDK constructs: the team platform and the parts it is made of.

They import the contract and the run-time facts they share with the functions from
``tunestack_runtime``, the package that is also every function's code.
"""

"""Image classification: one sub-folder per class, checked by sampling so the cost is constant.

The check lists the class folders with a delimiter (one request per 1,000 classes, up to
``MAX_CLASSES``) and then lists a bounded number of keys in each (one request per class, run a few
at a time): 30,000 images or 3,000,000 cost the same requests. Counts are exact where a class
holds no more than the sample, "at least N" otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tunestack_runtime.datasets.reading import Location, extension, list_level
from tunestack_runtime.errors import InvalidDataset

#: Keys listed in each class folder: enough to see its files' kind, whatever its size.
KEYS_PER_CLASS = 20
#: Class folders listed (one ListObjectsV2 page); a dataset with more is reported as "at least".
MAX_CLASSES = 1000
#: Class folders listed at once.
PARALLEL_LISTINGS = 8


@dataclass(frozen=True)
class ClassSample:
    name: str
    images: int
    complete: bool  # False: the class holds more than the sample


@dataclass(frozen=True)
class ImageSummary:
    classes: tuple[ClassSample, ...]
    all_classes_listed: bool

    @property
    def images(self) -> int:
        return sum(c.images for c in self.classes)

    @property
    def sampled(self) -> bool:
        return not self.all_classes_listed or not all(c.complete for c in self.classes)

    def report(self) -> dict[str, Any]:
        classes = len(self.classes)
        return {
            "Classes": classes if self.all_classes_listed else f"at least {classes}",
            "Images": self.images if not self.sampled else f"at least {self.images}",
            "Sampled": self.sampled,
        }


@dataclass(frozen=True)
class ImageFolders:
    """Class folders holding images whose extensions the model's framework accepts."""

    name: str
    source: str
    extensions: frozenset[str]

    def check(self, s3: Any, location: Location) -> dict[str, Any]:
        top = list_level(s3, location, max_keys=MAX_CLASSES)
        self._refuse_loose_files(top.files, location)
        folders = sorted(top.folders)
        with ThreadPoolExecutor(PARALLEL_LISTINGS) as pool:
            levels = list(pool.map(lambda c: list_level(s3, location.child(c), max_keys=KEYS_PER_CLASS), folders))
        samples = []
        for folder, level in zip(folders, levels, strict=True):
            where = location.child(folder)
            if level.folders:
                nested = where.child(level.folders[0]).uri
                raise InvalidDataset(f"{nested}: class folders must not be nested; expected <class>/<image>")
            self.check_names(level.files, location)
            if level.files:
                samples.append(ClassSample(folder, len(level.files), complete=not level.truncated))
        summary = ImageSummary(tuple(samples), all_classes_listed=not top.truncated)
        if len(summary.classes) < 2:
            found = [c.name for c in summary.classes]
            raise InvalidDataset(f"{location.uri}: needs at least two class folders with images, found {found}")
        return summary.report()

    def _refuse_loose_files(self, keys: Iterable[str], location: Location) -> None:
        for key in keys:
            raise InvalidDataset(
                f"{location.key_uri(key)}: images must be inside one sub-folder per class, "
                "not at the dataset's top level"
            )

    def check_names(self, keys: Iterable[str], location: Location) -> None:
        for key in keys:
            if extension(key) not in self.extensions:
                raise InvalidDataset(
                    f"{location.key_uri(key)}: not an accepted image file for {self.name} "
                    f"(extensions: {', '.join(sorted(self.extensions))})"
                )

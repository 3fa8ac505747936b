"""Data layer: readers, built-in sources, splits, slices and patch sampling."""

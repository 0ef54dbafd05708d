"""The administrative tree: city → district → street/town → community/village."""

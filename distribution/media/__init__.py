"""Photos and files of a release: checking what is uploaded, resizing, storing, serving rules."""

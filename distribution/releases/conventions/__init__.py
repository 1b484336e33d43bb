"""The conventions press offices write releases in, each read by its own module: dates in
many languages (dates), datelines (datelines), what stands around the headline (head),
embargo lines (embargo_lines), and the language of the text (language)."""

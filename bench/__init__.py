"""Benchmarks: `bench/run` measures Pressroom against smtp-source and plain Python senders."""

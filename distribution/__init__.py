"""Pressroom's domain: releases, contacts and lists, rendering, transports, dispatch."""

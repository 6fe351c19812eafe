"""Canaries (Carlini et al. 2019, "The Secret Sharer"): synthetic records a hospital
inserts before training, and the exposure of each one measured afterwards.

`design` draws the canaries from a secret seed, `files` writes and reads the seed file,
the manifest and the records to insert, `exposure` ranks each canary among its
randomness space.
"""

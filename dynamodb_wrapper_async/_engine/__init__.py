"""The engine: the gateway (retries, translation), the batch engine, retry timing, progress.

It reaches the network only through ``_wire``'s ``Sender``.
"""

"""The wire: HTTP pool, SigV4, the JSON transport, answers, the pool of senders, error mapping.

The only layer that talks to botocore and the network. Above it, the engine sees one
interface, ``sender.Sender``.
"""

"""Server mode: the index's own record kept in a Chroma server, beside the vectors it describes.

With a Chroma server several processes (bots, shards, `bot reindex` on another host) share one
index. What is indexed in which state then lives in the server too, and each process's SQLite
catalog is a local copy of it (``replica``); small records beside it (``records``) hold the
generation counter, the bot's announcement ledger and the leases (``leases``): writers take one,
so two reindexes never interleave, and the announcer takes one per bot application, so only one
process posts.
"""

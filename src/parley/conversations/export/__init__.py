"""CSV export of a filtered view, streamed in constant memory, with the database writing the cells.

One idea a module: ``quoting`` (CSV quoting and formula neutralising, in Python and in SQL),
``zones`` (a time zone's UTC offsets over a span), ``cells`` (each column as SQL, per dialect),
``statement`` (the export query), ``stream`` (running it and sending the bytes). Nothing is
imported here, so the field policy can name the cells without importing the stream.
"""

"""moto_server for the volume benchmark (scripts/volume.sh), with one speed fix.

moto 5.2.5's DynamoDB Query starts from Table.all_items(), which sorts every item of the table
by its keys on every call; with ten thousand orders' items in the table that sort is most of the
benchmark's time. Query sorts the items it keeps by itself (by the index's keys and then the
table's), so inside Query the walk may be unsorted: the answers are the same. Everything else
(Scan, exports) still gets the sorted walk. Run it with the project venv's python, with
moto_server's own arguments: python scripts/moto-volume.py -H 127.0.0.1 -p PORT
"""

import sys
import threading

from moto.dynamodb.models.table import Table

_in_query = threading.local()
_all_items = Table.all_items
_query = Table.query


def _unsorted_in_query(self):
    if not getattr(_in_query, "on", False):
        return _all_items(self)
    items = []
    for hash_set in self.items.values():
        if self.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)
    return items


def _query_unsorted_walk(self, *args, **kwargs):
    _in_query.on = True
    try:
        return _query(self, *args, **kwargs)
    finally:
        _in_query.on = False


Table.all_items = _unsorted_in_query
Table.query = _query_unsorted_walk

from moto.server import main  # noqa: E402  (after the patch)

if __name__ == "__main__":
    sys.exit(main())

"""Loaded items are stored compactly and behave like a read-only list of Items."""

import gc

import pytest

from medevals.benchmarks.item_store import ItemStore
from medevals.errors import DataError
from medevals.schema import Item


def _items(n: int) -> list[Item]:
    return [
        Item(
            id=f"q{i}", input=f"Question {i}?", choices={"A": "yes", "B": "no"}, target="A", metadata={"i": i}
        )
        for i in range(n)
    ]


def test_round_trip_index_slice_iter_and_ids():
    items = _items(5)
    store = ItemStore.collect(iter(items), where="x.jsonl")
    assert len(store) == 5 and list(store) == items
    assert store[3] == items[3] and store[-1] == items[-1]
    head = store[:2]
    assert isinstance(head, ItemStore) and list(head) == items[:2]
    assert [store.id_at(i) for i in range(5)] == [it.id for it in items]
    assert bool(ItemStore()) is False


def test_items_are_rebuilt_fresh_so_a_protocol_cannot_mutate_the_store():
    store = ItemStore.collect(_items(1), where="x.jsonl")
    first = store[0]
    first.metadata["i"] = 99
    assert store[0].metadata["i"] == 0


def test_duplicate_ids_name_the_source():
    items = _items(2) + _items(1)
    with pytest.raises(DataError, match="duplicate item id 'q0'") as e:
        ItemStore.collect(items, where="data/x.jsonl")
    assert "data/x.jsonl" in str(e.value)


def test_a_slice_keeps_reading_after_its_parent_is_gone():
    items = _items(4)
    head = ItemStore.collect(iter(items), where="x.jsonl")[1:3]
    gc.collect()
    assert list(head) == items[1:3] and head[-1] == items[2]
    with pytest.raises(IndexError):
        ItemStore()[0]


def test_item_bytes_live_in_the_spill_file_not_in_memory():
    items = _items(3)
    store = ItemStore.collect(items, where="x.jsonl")
    assert store._spill is not None
    assert store._spill._size == sum(len(it.model_dump_json().encode()) for it in items)
    assert store._ids == ["q0", "q1", "q2"] and not hasattr(store, "_blobs")


def test_appends_after_reads_land_at_the_end():
    # Appends skip the seek unless a read moved the file position; interleaving must stay exact.
    store, ref = ItemStore(), []
    for i, it in enumerate(_items(200)):
        store._append(it)
        ref.append(it)
        if i % 3 == 0:
            assert store[i // 2] == ref[i // 2]
    assert list(store) == ref

"""How an item is put to a model. One module per protocol family; see ``base.Protocol``."""

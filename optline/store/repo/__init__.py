"""The store's repositories: the queries of one transaction (:class:`optline.store.Tx`),
one module per concern. Each is reached as an attribute of the transaction
(``tx.contacts``, ``tx.ledger`` ...) and shares its connection and caches."""

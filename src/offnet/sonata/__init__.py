"""MEF LSO Sonata: models, canonical hashing, client, and the reference seller."""

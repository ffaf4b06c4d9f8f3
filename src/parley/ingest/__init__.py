"""Writing conversations: one record shape for the seeder, the API and future ingest paths."""

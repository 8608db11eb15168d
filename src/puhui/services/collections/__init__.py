"""Collections (催收) on the database: DPD queues from servicing, promises to pay, the contact
log and write-offs with four eyes, posted through servicing."""

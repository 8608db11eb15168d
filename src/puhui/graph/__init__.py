"""The relationship graph (关系图谱): enterprises tied by people, identifiers, invoices and
guarantees, built in batch from the data sources and the platform, checked online as each
application arrives, and read by anti-fraud, the strategy, the models and monitoring."""

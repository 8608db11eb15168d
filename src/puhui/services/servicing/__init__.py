"""Servicing use cases: products, credit lines, receipts, repayments, write-offs, the ledger."""

"""Supply-chain finance on SQL: core enterprises, vouchers, financings, settlements."""

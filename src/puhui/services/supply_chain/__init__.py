"""Supply-chain finance: core facilities, payable vouchers, financing and settlement."""

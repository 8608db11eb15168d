"""Documents the platform hands to people: branch QR codes and contracts as PDF."""

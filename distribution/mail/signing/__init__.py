"""What vouches for a message: its DKIM signatures (`dkim`) and its signed VERP envelope
sender (`verp`), both keyed by the installation's secrets."""

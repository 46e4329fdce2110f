"""UnionPay-style ISO 8583 for the acquirer port, in jPOS's three layers: the field layout (spec), the framing
(length, TPDU, header) and the messages (host-neutral requests and answers to and from fields).

Not wired into the engine yet: the port refactor does that. Every module here stands and is tested on its own.
"""

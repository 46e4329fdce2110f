"""Emulated EMV cards for tests, benchmarks and demo mode: the card's side of every APDU, as pure logic.

An `EmulatedCard` knows nothing of readers; app/sim/emulator/vpcd.py plugs one into pcscd's virtual reader
and app/sim/emulator/isodep.py into nfcpy's UDP transport.
"""

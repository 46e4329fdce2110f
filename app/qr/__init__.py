"""QR payments, the pure parts: customer payment codes (付款码) and the EMVCo merchant-presented payload.

Nothing here touches a device, the journal or the acquirer; the scanners are in app/devices.
"""

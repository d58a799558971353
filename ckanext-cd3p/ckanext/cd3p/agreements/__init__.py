"""The Data Sharing Agreement gate: agreement versions, the append-only ledger, signing and
acknowledging, partner applications and membership requests, and the publishing and membership
rules on core actions."""

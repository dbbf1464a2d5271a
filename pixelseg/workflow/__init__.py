"""End-to-end jobs that chain the stages (data -> network -> training -> evaluation)."""

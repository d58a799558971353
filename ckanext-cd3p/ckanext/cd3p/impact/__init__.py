"""Programme reach, impact and cost per outcome, against need."""

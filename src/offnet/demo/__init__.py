"""`offnet demo`: a whole marketplace of carriers running end to end, with its report."""

"""The evaluation harness: the papers' datasets, graders, methods and reports."""

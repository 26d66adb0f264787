"""The baselines' nodes, on CREATOR's state: reason, program, fix_program, vote, create_and_decide."""

"""Applications: the state machine, the student's steps, submission and withdrawal."""

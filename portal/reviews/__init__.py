"""Reviews: who scores which application, against the programme's rubric."""

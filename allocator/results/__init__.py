"""Fourth floor: a solved plan as tables (extract) and the solution folder that holds them (solution).

``results.solution`` knows the folder format only and imports nothing above the ground floor, so
that the independent checker can read folders without the model.
"""

"""Fifth floor: the stages chained (pipeline) and the analyses built on them: explain, what-if, compare, sweep."""

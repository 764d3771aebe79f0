"""Events (活动): forums, salons, seminars, trainings, competitions, ceremonies; their sessions and hosts."""

"""Sign-ups (报名): the per-event form, individual and team registrations, capacity, waiting list, tickets."""

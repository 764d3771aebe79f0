"""Users, organizations (协会 and their branches), memberships with roles, login, API tokens."""

"""The grid worker's field view: sign-in, survey rules, photos, progress and the field page."""

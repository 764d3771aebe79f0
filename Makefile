# Saihui — the two commands a newcomer needs:
#   make run    set up (venv, pinned deps, database migrated, demo loaded) and serve on http://127.0.0.1:5000
#   make test   set up what tests need and run the whole suite (SQLite, then PostgreSQL, with browser tests)
.PHONY: run test setup db i18n-extract clean

FLASK = .venv/bin/flask --app app

run: setup db
	$(FLASK) run --host 127.0.0.1 --port 5000

setup:
	bash scripts/setup.sh
	bash scripts/system-deps.sh runtime

db: setup
	$(FLASK) db upgrade
	$(FLASK) demo

test:
	bash scripts/test.sh

# Developers: after adding user-facing strings, refresh the catalogs, then translate every new or "#, fuzzy" entry
# in translations/zh_Hans and zh_Hant (en may stay empty: English is the msgid). tests/core/test_i18n.py fails
# until they are translated; it runs the same extraction.
i18n-extract: setup
	.venv/bin/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --no-location --sort-output --project Saihui .
	.venv/bin/pybabel update -i translations/messages.pot -d translations --ignore-obsolete --no-fuzzy-matching
	.venv/bin/pybabel --quiet compile -d translations

clean:
	rm -rf .venv instance/*.sqlite3

/* A fresh, migrated evgate database in a temporary directory: the fixture of the db/ unit tests
 * (cmocka setup and teardown). */
#ifndef EVGATE_TEST_DB_FIXTURE_H
#define EVGATE_TEST_DB_FIXTURE_H

struct db;

struct db_fixture {
    char dir[64];
    char path[128];
    struct db *db;
};

/* *state = a struct db_fixture with its database open and migrated; 0, or -1. */
int db_fixture_setup(void **state);
/* Closes the database and removes the directory. */
int db_fixture_teardown(void **state);
/* The fixture's database. */
struct db *db_fixture_db(void **state);

/* Runs `sql` (one or more statements) on `db`; fails the test with SQLite's message when any
 * statement fails. */
void db_fixture_exec(struct db *db, const char *sql);

/* The first column of the first row of `sql` on `db` as an integer (NULL reads 0); fails the
 * test when the statement does not prepare or yields no row. */
long long db_fixture_int(struct db *db, const char *sql);

#endif

//! Tests of the pick-up path against a real Postgres (`DATABASE_URL`, else
//! the local server), each on a fresh database of its own.

mod db;
mod pick_up;

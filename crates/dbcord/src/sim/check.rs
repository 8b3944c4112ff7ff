//! The invariants: of each read as it comes, and of the guild at the end.
//!
//! At the end: every acknowledged statement took effect exactly once and
//! whole, no failed one did, each indeterminate one did all or nothing;
//! every row is the last version a statement that took effect wrote;
//! verify is clean (or clean after vacuum and reindex); and the answers
//! of pushdown, of a full scan and of a model (DataFusion `MemTable`s
//! holding what the statements say) agree.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::client::{Cells, cells};
use super::history::History;
use super::model;
use super::plan::Plan;
use super::workload::{
    ACCOUNTS, Kind, LEDGER_COLUMNS, LedgerRow, OPENING, Outcome, Read, Refusal, Statement, lit,
};
use crate::sql::Engine;
use crate::store::{STAGE_GRACE, VACUUM_GRACE};

/// Check a read's answer against what must hold whenever it ran.
pub fn read(read: &Read, cells: &Cells, h: &History) -> Result<(), String> {
    match read {
        Read::Total => {
            let want = vec![vec![(ACCOUNTS * OPENING).to_string(), ACCOUNTS.to_string()]];
            if *cells != want {
                return Err(format!(
                    "accounts read {cells:?}, not {want:?}: a torn or lost transfer"
                ));
            }
        }
        Read::RowsOf { of } => {
            let rows = inserted_by(h, *of).ok_or("rows of an unknown insert")?;
            if cells.is_empty() {
                if !h.deleted.contains(of) {
                    return Err(format!("the rows of acknowledged insert {of} are gone"));
                }
                return Ok(());
            }
            let got = ledger_rows(cells)?;
            same_rows(
                *of,
                &rows,
                &got,
                h.rewrites.get(of).map(Vec::as_slice).unwrap_or(&[]),
            )?;
        }
        Read::Range { .. } => {
            if cells.len() != 1 || cells[0][0] != cells[0][1] {
                return Err(format!("count and distinct ids differ: {cells:?}"));
            }
        }
        Read::Code { code } => {
            let n: u64 = cells[0][0].parse().unwrap_or(u64::MAX);
            if n > 1 {
                return Err(format!("{n} rows hold the UNIQUE code {code}"));
            }
        }
    }
    Ok(())
}

/// A definite failure a statement of its kind should never have, judged
/// by the kind of error it failed with.
pub fn unexpected_failure(stmt: &Statement, outcome: &Outcome) -> Option<String> {
    let Outcome::Failed(refusal, why) = outcome else {
        return None;
    };
    let k = &stmt.kind;
    let expected = match refusal {
        // A concurrent statement changed the same rows: the later one loses.
        Refusal::Conflict => matches!(
            k,
            Kind::Transfer { .. }
                | Kind::Receipt { .. }
                | Kind::Retag { .. }
                | Kind::Delete { .. }
                | Kind::Rewrite { .. }
                | Kind::Insert { .. }
                | Kind::Vacuum
                | Kind::CreateIndex { .. }
        ),
        // Inserts may reuse a taken id or code; rewritten rows may hold an
        // alias a UNIQUE index being built finds repeated (the index then
        // fails, but meanwhile it holds).
        Refusal::Duplicate(constraint) => match k {
            Kind::Insert { .. } => true,
            Kind::Rewrite { .. } => constraint == "UNIQUE index ledger_alias",
            _ => false,
        },
        Refusal::NotUnique => matches!(k, Kind::CreateIndex { .. }),
        Refusal::Exists => matches!(k, Kind::CreateScratch { .. } | Kind::CreateIndex { .. }),
        Refusal::Missing => matches!(k, Kind::DropScratch { .. } | Kind::DropIndex { .. }),
        Refusal::Other => false,
    };
    (!expected).then(|| {
        format!(
            "statement {} ({}) failed unexpectedly: {why}",
            stmt.id,
            short(&stmt.sql)
        )
    })
}

fn short(sql: &str) -> String {
    sql.chars().take(120).collect()
}

/// The rows insert `of` wrote, if it was acknowledged.
fn inserted_by(h: &History, of: i64) -> Option<Vec<LedgerRow>> {
    h.known
        .acked_inserts
        .iter()
        .find(|(id, _)| *id == of)
        .map(|(_, rows)| rows.clone())
}

/// [`LEDGER_COLUMNS`] cells as ledger rows.
pub fn ledger_rows(cells: &Cells) -> Result<Vec<LedgerRow>, String> {
    cells
        .iter()
        .map(|c| {
            let num = |i: usize| c[i].parse::<i64>().map_err(|e| format!("{:?}: {e}", c[i]));
            Ok(LedgerRow {
                id: num(0)?,
                stmt: num(1)?,
                client: num(2)?,
                code: c[3].clone(),
                body: c[4].clone(),
                alias: c[5].clone(),
            })
        })
        .collect()
}

/// `got` are all of `want` (by id, with their stmt, client and code), whole,
/// with one body version: the inserted bodies, or one rewrite's.
fn same_rows(
    of: i64,
    want: &[LedgerRow],
    got: &[LedgerRow],
    rewrites: &[i64],
) -> Result<(), String> {
    let mut got: Vec<LedgerRow> = got.to_vec();
    got.sort_by_key(|r| r.id);
    let mut want = want.to_vec();
    want.sort_by_key(|r| r.id);
    if got.len() != want.len() {
        return Err(format!(
            "insert {of} wrote {} rows and {} are there: torn or duplicated",
            want.len(),
            got.len()
        ));
    }
    let original = got.iter().zip(&want).all(|(g, w)| g == w);
    if original {
        return Ok(());
    }
    let rewritten = rewrites.iter().any(|r| {
        let body = format!("r{r}");
        got.iter().zip(&want).all(|(g, w)| {
            *g == LedgerRow {
                body: body.clone(),
                ..w.clone()
            }
        })
    });
    if rewritten {
        return Ok(());
    }
    Err(format!(
        "the rows of insert {of} differ from every version written: {got:?}"
    ))
}

/// Everything at the end of a seed.
pub async fn all(plan: &Plan, engine: &Engine, h: &mut History) {
    let checks: [(&str, Result<u64, String>); 4] = [
        ("accounts", accounts(engine, h).await),
        ("ledger", ledger(engine, h).await),
        ("tables", scratch_tables(engine, h).await),
        ("verify", verify(engine, h).await),
    ];
    for (what, result) in checks {
        match result {
            Ok(n) => h.totals.invariants += n,
            Err(why) => h.totals.violation(plan, format!("{what}: {why}")),
        }
    }
    if !h.totals.violations.is_empty() {
        return; // the model is built from what the checks above accepted
    }
    match model::compare(engine, h).await {
        Ok(n) => h.totals.invariants += n,
        Err(why) => h.totals.violation(plan, format!("model: {why}")),
    }
}

fn acked(o: &Outcome) -> bool {
    matches!(o, Outcome::Acked(_))
}

fn unknown(o: &Outcome) -> bool {
    matches!(o, Outcome::Unknown(_))
}

/// Each balance is the opening plus the acknowledged transfers plus the
/// same choice of indeterminate ones for every key; each tag names a
/// statement that took effect on that key. Returns the balances expected.
async fn accounts(engine: &Engine, h: &mut History) -> Result<u64, String> {
    let got = cells(engine, "SELECT k, v, tag FROM accounts ORDER BY k").await?;
    if got.len() != ACCOUNTS as usize {
        return Err(format!("{} accounts, not {ACCOUNTS}", got.len()));
    }
    // A receipt whose outcome is unknown took effect exactly when its
    // ledger rows are there: the transaction was all or nothing.
    let recorded: HashSet<i64> = cells(engine, "SELECT DISTINCT stmt FROM ledger")
        .await?
        .iter()
        .filter_map(|r| r[0].parse().ok())
        .collect();
    let mut residual = vec![0i64; ACCOUNTS as usize];
    let mut maybe = Vec::new();
    for (i, row) in got.iter().enumerate() {
        let v: i64 = row[1]
            .parse()
            .map_err(|_| format!("balance {:?}", row[1]))?;
        residual[i] = v - OPENING;
    }
    for (s, o) in &h.statements {
        let applied = match s.kind {
            Kind::Receipt { .. } if unknown(o) => Some(recorded.contains(&s.id)),
            Kind::Receipt { .. } => Some(acked(o)),
            _ => None,
        };
        if let (Kind::Receipt { a, b, d, .. }, Some(applied)) = (&s.kind, applied) {
            if applied {
                residual[*a as usize] -= d;
                residual[*b as usize] += d;
            }
            continue;
        }
        if let Kind::Transfer { a, b, d } = s.kind {
            if acked(o) {
                residual[a as usize] -= d;
                residual[b as usize] += d;
            } else if unknown(o) {
                maybe.push((a, b, d));
            }
        }
    }
    if !explains(&residual, &maybe) {
        return Err(format!(
            "balances {residual:?} away from the acknowledged transfers, and no choice of the \
             {} indeterminate ones explains it: a transfer lost, repeated or torn",
            maybe.len()
        ));
    }
    for (k, row) in got.iter().enumerate() {
        check_tag(h, k as i64, &row[2])?;
    }
    h.final_accounts = got;
    Ok(ACCOUNTS as u64 + 1)
}

/// Whether some subset of `maybe` sums to `residual` on every key.
fn explains(residual: &[i64], maybe: &[(i64, i64, i64)]) -> bool {
    if residual.iter().all(|r| *r == 0) {
        return true;
    }
    let Some(((a, b, d), rest)) = maybe.split_first() else {
        return false;
    };
    if explains(residual, rest) {
        return true;
    }
    let mut taken = residual.to_vec();
    taken[*a as usize] -= d;
    taken[*b as usize] += d;
    explains(&taken, rest)
}

/// A key's tag names `init` (nothing acknowledged touched it) or a
/// transfer or retag of that key that was acknowledged or indeterminate.
fn check_tag(h: &History, k: i64, tag: &str) -> Result<(), String> {
    let touches = |kind: &Kind| match *kind {
        Kind::Transfer { a, b, .. } | Kind::Receipt { a, b, .. } => a == k || b == k,
        Kind::Retag { lo, hi } => (lo..=hi).contains(&k),
        _ => false,
    };
    let mut writers = h.statements.iter().filter(|(s, _)| touches(&s.kind));
    if tag == "init" {
        return match writers.find(|(_, o)| acked(o)) {
            Some((s, _)) => Err(format!(
                "key {k} shows no write, but statement {} was acknowledged",
                s.id
            )),
            None => Ok(()),
        };
    }
    let by = tag.strip_prefix('s').and_then(|n| n.parse::<i64>().ok());
    match writers.find(|(s, _)| Some(s.id) == by) {
        Some((_, o)) if acked(o) || unknown(o) => Ok(()),
        Some((s, _)) => Err(format!(
            "key {k} carries the tag of failed statement {}",
            s.id
        )),
        None => Err(format!(
            "key {k} carries tag {tag:?}, which no statement wrote to it"
        )),
    }
}

/// Each insert's rows are all there or none, whole; acknowledged ones are
/// there unless deleted, failed ones never; no id or code is held twice,
/// nor an alias while its UNIQUE index exists.
async fn ledger(engine: &Engine, h: &mut History) -> Result<u64, String> {
    let sql = format!("SELECT {LEDGER_COLUMNS} FROM ledger");
    let got = ledger_rows(&cells(engine, &sql).await?)?;
    let alias_unique = engine
        .store()
        .indexes_of("main", "ledger")
        .iter()
        .any(|i| i.name == "ledger_alias" && i.ready);
    let mut by_stmt: BTreeMap<i64, Vec<LedgerRow>> = BTreeMap::new();
    let (mut ids, mut codes, mut aliases) = (HashSet::new(), HashSet::new(), HashSet::new());
    for r in &got {
        if !ids.insert(r.id) || !codes.insert(r.code.clone()) {
            return Err(format!("id {} or code {} is held twice", r.id, r.code));
        }
        if alias_unique && !aliases.insert(r.alias.clone()) {
            return Err(format!(
                "alias {} is held twice under UNIQUE index ledger_alias",
                r.alias
            ));
        }
        by_stmt.entry(r.stmt).or_default().push(r.clone());
    }
    let deletes = deletes_of(h);
    let mut checked = 0;
    for (s, o) in &h.statements {
        let (Kind::Insert { rows } | Kind::Receipt { rows, .. }) = &s.kind else {
            continue;
        };
        let there = by_stmt.remove(&s.id).unwrap_or_default();
        checked += 1;
        if there.is_empty() {
            if acked(o)
                && !deletes
                    .get(&s.id)
                    .is_some_and(|d| d.iter().any(|o| !failed(o)))
            {
                return Err(format!(
                    "acknowledged insert {} is missing, and no delete of it ran",
                    s.id
                ));
            }
            continue;
        }
        if !(acked(o) || unknown(o)) {
            return Err(format!("failed insert {} left {} rows", s.id, there.len()));
        }
        if deletes.get(&s.id).is_some_and(|d| d.iter().any(acked)) {
            return Err(format!("insert {} survived an acknowledged delete", s.id));
        }
        let rewrites = rewrites_of(h, s.id);
        same_rows(s.id, rows, &there, &rewrites)?;
    }
    if let Some((stmt, _)) = by_stmt.into_iter().next() {
        return Err(format!("rows of statement {stmt}, which inserted nothing"));
    }
    h.final_ledger = got;
    Ok(checked)
}

fn failed(o: &Outcome) -> bool {
    matches!(o, Outcome::Failed(..))
}

/// The outcomes of the deletes sent, by the insert they aim at.
fn deletes_of(h: &History) -> HashMap<i64, Vec<Outcome>> {
    let mut out: HashMap<i64, Vec<Outcome>> = HashMap::new();
    for (s, o) in &h.statements {
        if let Kind::Delete { of } = s.kind {
            out.entry(of).or_default().push(o.clone());
        }
    }
    out
}

/// The rewrites of insert `of` that may have taken effect.
fn rewrites_of(h: &History, of: i64) -> Vec<i64> {
    h.statements
        .iter()
        .filter(|(s, o)| matches!(s.kind, Kind::Rewrite { of: x } if x == of) && !failed(o))
        .map(|(s, _)| s.id)
        .collect()
}

/// Each client's scratch tables exist as its last certain CREATE or DROP says.
async fn scratch_tables(engine: &Engine, h: &History) -> Result<u64, String> {
    let listed = cells(
        engine,
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'scratch%'",
    )
    .await?;
    let exists: HashSet<String> = listed.into_iter().map(|r| r[0].clone()).collect();
    let mut want: BTreeMap<String, Option<bool>> = BTreeMap::new();
    for (s, o) in &h.statements {
        let (name, creates) = match &s.kind {
            Kind::CreateScratch { name } => (name, true),
            Kind::DropScratch { name } => (name, false),
            _ => continue,
        };
        let state = want.entry(name.clone()).or_insert(Some(false));
        match o {
            Outcome::Acked(_) => *state = Some(creates),
            Outcome::Unknown(_) => *state = None,
            Outcome::Failed(..) => {}
        }
    }
    for (name, state) in &want {
        if let Some(should) = state
            && *should != exists.contains(name)
        {
            return Err(format!(
                "table {name} {} although its last acknowledged statement {} it",
                if *should { "is missing" } else { "exists" },
                if *should { "created" } else { "dropped" }
            ));
        }
    }
    Ok(want.len() as u64)
}

/// verify finds nothing wrong; or, if it does, nothing after vacuum and
/// a reindex of every index.
async fn verify(engine: &Engine, h: &mut History) -> Result<u64, String> {
    let mut checked = 0;
    for table in ["accounts", "ledger"] {
        let found = problems(engine, table).await?;
        if found.is_empty() {
            checked += 1;
            continue;
        }
        for row in &found {
            *h.totals.before_vacuum.entry(row[0].clone()).or_default() += 1;
        }
        // Data the current snapshot names must be there, whatever died when:
        // repairing it afterwards would hide a reader's failure.
        if let Some(row) = found.iter().find(|r| DAMAGE.contains(&r[0].as_str())) {
            return Err(format!("{table}: {}: {}", row[0], row[1]));
        }
        // Reindex first: it writes a checkpoint, which vacuum then cleans up after.
        for index in INDEXES.iter().filter(|(t, _)| *t == table) {
            let sql = format!("SELECT * FROM reindex({})", lit(index.1));
            match cells(engine, &sql).await {
                Err(e) if !e.contains("does not exist") => return Err(e),
                _ => {}
            }
        }
        // Vacuum leaves replaced commits younger than its grace, and staged
        // segments nothing named whose stage may still be under way; let
        // them age. A second vacuum past the grace deletes what the first
        // one's own compaction replaced.
        let clock = engine.store().clock();
        for grace in [STAGE_GRACE, VACUUM_GRACE] {
            let wait = grace + std::time::Duration::from_secs(1);
            clock.advance_to(clock.now_us() + wait.as_micros() as u64);
            cells(engine, &format!("SELECT * FROM vacuum({})", lit(table))).await?;
        }
        let left = problems(engine, table).await?;
        if !left.is_empty() {
            return Err(format!("{table} after vacuum and reindex: {left:?}"));
        }
        h.totals.mended += 1;
        checked += 1;
    }
    Ok(checked)
}

/// What verify may find that no kill or race may leave: a segment the
/// current manifest names, gone (seeds 53 and 182 found index runs of a
/// dropped index named under the name of its successor).
const DAMAGE: [&str; 1] = ["missing attachment"];

/// Every index the workload makes, by table (`ledger_client` comes and goes).
const INDEXES: [(&str, &str); 5] = [
    ("accounts", "accounts_tag"),
    ("ledger", "ledger_code"),
    ("ledger", "ledger_stmt"),
    ("ledger", "ledger_client"),
    ("ledger", "ledger_alias"),
];

async fn problems(engine: &Engine, table: &str) -> Result<Cells, String> {
    let sql = format!(
        "SELECT kind, detail FROM verify({}) WHERE NOT ok",
        lit(table)
    );
    cells(engine, &sql).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::history::History;

    fn row(id: i64, stmt: i64, body: &str) -> LedgerRow {
        LedgerRow {
            id,
            stmt,
            client: 0,
            code: format!("c{id}"),
            body: body.into(),
            alias: format!("c{id}"),
        }
    }

    #[test]
    fn balances_are_explained_only_by_whole_transfers() {
        let maybe = [(0, 1, 5), (2, 3, 7)];
        assert!(explains(&[0, 0, 0, 0], &maybe));
        assert!(explains(&[5, -5, 7, -7], &maybe));
        assert!(explains(&[0, 0, 7, -7], &maybe));
        // Half a transfer, a repeated one, and one nobody sent are caught.
        assert!(!explains(&[5, 0, 0, 0], &maybe));
        assert!(!explains(&[10, -10, 0, 0], &maybe));
        assert!(!explains(&[0, 0, 0, 0, 3, -3], &[]));
    }

    #[test]
    fn an_insert_is_whole_with_one_body_version() {
        let want = [row(1, 9, "a"), row(2, 9, "b")];
        assert!(same_rows(9, &want, &want, &[]).is_ok());
        let rewritten = [row(1, 9, "r12"), row(2, 9, "r12")];
        assert!(same_rows(9, &want, &rewritten, &[12]).is_ok());
        assert!(same_rows(9, &want, &rewritten, &[]).is_err());
        let torn = [row(1, 9, "a")];
        assert!(
            same_rows(9, &want, &torn, &[])
                .unwrap_err()
                .contains("torn")
        );
        let mixed = [row(1, 9, "r12"), row(2, 9, "b")];
        assert!(same_rows(9, &want, &mixed, &[12]).is_err());
    }

    #[test]
    fn reads_that_break_an_invariant_are_caught() {
        let h = History::default();
        let total = vec![vec![(ACCOUNTS * OPENING).to_string(), ACCOUNTS.to_string()]];
        assert!(read(&Read::Total, &total, &h).is_ok());
        let torn = vec![vec![
            (ACCOUNTS * OPENING + 3).to_string(),
            ACCOUNTS.to_string(),
        ]];
        assert!(read(&Read::Total, &torn, &h).unwrap_err().contains("torn"));
        let twice = vec![vec!["4".to_string(), "3".to_string()]];
        assert!(read(&Read::Range { lo: 0, hi: 9 }, &twice, &h).is_err());
        let code = Read::Code { code: "c1".into() };
        assert!(read(&code, &vec![vec!["2".to_string()]], &h).is_err());
    }

    #[test]
    fn a_failure_outside_the_expected_ones_is_a_violation() {
        let stmt = Statement {
            id: 3,
            client: 0,
            kind: Kind::Transfer { a: 0, b: 1, d: 5 },
            sql: "UPDATE ...".into(),
        };
        let conflict = Outcome::Failed(Refusal::Conflict, "conflict: ...".into());
        assert!(unexpected_failure(&stmt, &conflict).is_none());
        let odd = Outcome::Failed(Refusal::Missing, "table \"accounts\" does not exist".into());
        assert!(unexpected_failure(&stmt, &odd).is_some());
        // A message that happens to hold an expected word is no excuse.
        let worded = Outcome::Failed(Refusal::Other, "a race, concurrent, changed".into());
        assert!(unexpected_failure(&stmt, &worded).is_some());
        assert!(unexpected_failure(&stmt, &Outcome::Unknown("timed out".into())).is_none());
    }
}

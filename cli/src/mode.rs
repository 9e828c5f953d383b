//! `kenzen mode [MODE]`, `kenzen pause`, `kenzen resume`: the operating mode the seller sets at
//! run time (kept on the table at `SETTINGS` / `MODE`; the functions read it at each run). With
//! nothing set, the deployed mode (the stack's Mode parameter) applies. It decides nothing about
//! cases: it only records the seller's choice and says what it means.

use anyhow::{Result, anyhow};
use jiff::Timestamp;
use kenzen_app::ports::{ModeSetting, SettingsStore};
use kenzen_core::Mode;
use serde_json::json;

use crate::Outcome;
use crate::deployment::Ctx;
use crate::failure::store_failure;
use crate::local_time::local;

/// What the seller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Show,
    Set(Mode),
    Pause,
    Resume,
}

/// What each mode means for the seller, in one sentence.
pub fn meaning(mode: Mode) -> &'static str {
    match mode {
        Mode::Live => "kenzen sends messages and cancels as your strategy says.",
        Mode::DryRun => {
            "kenzen decides and records everything, with the texts and cancels it would send, \
             but sends and cancels nothing; cases opened now stay rehearsals."
        }
        Mode::Approve => {
            "kenzen acts, but a seller-initiated cancel and its apology wait for your approval \
             (kenzen approve ORDER) until the approval deadline; then your approval default applies."
        }
        Mode::Pause => {
            "no messages and no cancels go out while paused, so an unfillable order that nobody \
             ships or cancels may ship late; cases still open, buyers' requests are still seen, \
             and you get an alert at each case's deadline. Resume with `kenzen resume`."
        }
    }
}

/// Who acts (sets the mode, approves): this command, and the operator's user name when the
/// system gives one.
pub fn by() -> String {
    match ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    {
        Some(user) => format!("kenzen CLI ({})", user.trim()),
        None => "kenzen CLI".into(),
    }
}

/// The mode in force: the seller's setting, else the deployed one (when the stack tells it).
struct Current {
    setting: Option<ModeSetting>,
    deployed: Option<Mode>,
}

impl Current {
    fn mode(&self) -> Option<Mode> {
        self.setting.as_ref().map(|s| s.mode).or(self.deployed)
    }
}

/// The seller's mode setting, if any (for `status`).
pub async fn read(ctx: &Ctx) -> Result<Option<ModeSetting>> {
    let table = ctx.table().await?;
    ctx.store()
        .await?
        .mode()
        .await
        .map_err(|e| anyhow!("{}", store_failure(&table, &e)))
}

pub async fn run(ctx: &Ctx, request: Request) -> Result<Outcome> {
    let table = ctx.table().await?;
    let store = ctx.store().await?;
    let setting = store.mode().await.map_err(|e| {
        anyhow!(
            "{}; set the mode again to replace it",
            store_failure(&table, &e)
        )
    });
    // An unreadable setting can still be replaced; only showing it needs it read.
    let setting = match (setting, request) {
        (Ok(s), _) => s,
        (Err(e), Request::Show | Request::Resume) => return Err(e),
        (Err(_), _) => None,
    };
    let deployed = ctx
        .parameter("Mode")
        .await
        .and_then(|m| m.parse::<Mode>().ok());
    let current = Current { setting, deployed };
    let zone_of = ctx.marketplace().await.unwrap_or_default();
    let target = match request {
        Request::Show => return show(ctx, &current, &zone_of),
        Request::Set(m) => m,
        Request::Pause => Mode::Pause,
        Request::Resume => match current.mode() {
            Some(Mode::Pause) => current
                .setting
                .as_ref()
                .and_then(|s| s.before)
                .filter(|b| *b != Mode::Pause)
                .unwrap_or(Mode::Live),
            other => {
                let now = other.map_or("not known".to_string(), |m| m.to_string());
                if ctx.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({"mode": other.map(Mode::as_setting), "changed": false})
                        )?
                    );
                } else {
                    println!("kenzen is not paused (mode: {now}): nothing to resume.");
                }
                return Ok(Outcome::Ok);
            }
        },
    };
    if current.setting.as_ref().map(|s| s.mode) == Some(target) {
        if ctx.json {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({"mode": target.as_setting(), "changed": false})
                )?
            );
        } else {
            println!("The mode is {target} already: nothing changed.");
            println!("{}", meaning(target));
        }
        return Ok(Outcome::Ok);
    }
    let new = ModeSetting {
        mode: target,
        changed_at: Timestamp::now(),
        by: by(),
        before: current.mode(),
    };
    store
        .set_mode(&new)
        .await
        .map_err(|e| anyhow!("{}", store_failure(&table, &e)))?;
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "mode": target.as_setting(),
                "changed": true,
                "before": new.before.map(Mode::as_setting),
                "changed_at": {"utc": new.changed_at.to_string(), "local": local(new.changed_at, &zone_of)},
                "by": new.by,
                "meaning": meaning(target),
            }))?
        );
    } else {
        match new.before {
            Some(b) => println!("Mode: {b} → {target} (from kenzen's next run on)."),
            None => println!("Mode: {target} (from kenzen's next run on)."),
        }
        println!("{}", meaning(target));
    }
    Ok(Outcome::Ok)
}

fn show(ctx: &Ctx, current: &Current, marketplace: &str) -> Result<Outcome> {
    if ctx.json {
        let out = match &current.setting {
            Some(s) => json!({
                "mode": s.mode.as_setting(),
                "set": true,
                "changed_at": {"utc": s.changed_at.to_string(), "local": local(s.changed_at, marketplace)},
                "by": s.by,
                "before": s.before.map(Mode::as_setting),
                "deployed": current.deployed.map(Mode::as_setting),
            }),
            None => json!({
                "mode": current.deployed.map(Mode::as_setting),
                "set": false,
                "deployed": current.deployed.map(Mode::as_setting),
            }),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Outcome::Ok);
    }
    match (&current.setting, current.deployed) {
        (Some(s), _) => {
            println!(
                "Mode: {} (set {} by {}{})",
                s.mode,
                local(s.changed_at, marketplace),
                s.by,
                s.before
                    .map(|b| format!("; before: {b}"))
                    .unwrap_or_default()
            );
            println!("{}", meaning(s.mode));
        }
        (None, Some(d)) => {
            println!("Mode: {d} (as deployed: the stack's Mode parameter; never set here)");
            println!("{}", meaning(d));
        }
        (None, None) => println!(
            "Mode: as deployed (never set here; the stack's Mode parameter could not be read \
             to say which)"
        ),
    }
    Ok(Outcome::Ok)
}

//! The outcome lab's output: the table across seeds (mean and range), the CSV (one row per seed
//! and policy) and the PNG chart. It only formats figures the runs measured.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::{Policy, RunFigures};

/// Mean, least and greatest of `values` (all 0 when empty).
pub fn spread(values: &[f64]) -> (f64, f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, lo, hi)
}

fn runs_of(runs: &[RunFigures], p: Policy) -> Vec<&RunFigures> {
    runs.iter().filter(|r| r.policy == p.key()).collect()
}

/// Per seed, `a`'s exempt share minus `b`'s, in points (seeds both ran).
pub fn gaps(runs: &[RunFigures], a: Policy, b: Policy) -> Vec<f64> {
    runs_of(runs, a)
        .iter()
        .filter_map(|ra| {
            runs_of(runs, b)
                .iter()
                .find(|rb| rb.seed == ra.seed)
                .map(|rb| ra.exempt_share() - rb.exempt_share())
        })
        .collect()
}

fn cell(values: &[f64], decimals: usize) -> String {
    let (mean, lo, hi) = spread(values);
    format!("{mean:.decimals$} [{lo:.decimals$}–{hi:.decimals$}]")
}

/// The table: one line per policy, mean [least–greatest] over the seeds.
pub fn table(runs: &[RunFigures]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<31} {:>5} {:>20} {:>20} {:>13} {:>13} {:>6} {:>6}",
        "policy",
        "seeds",
        "exempt % [min–max]",
        "counted % [min–max]",
        "msgs/case max",
        "reqs/case max",
        "late",
        "other"
    );
    for p in Policy::ALL {
        let rs = runs_of(runs, p);
        if rs.is_empty() {
            continue;
        }
        let col = |f: &dyn Fn(&RunFigures) -> f64| rs.iter().map(|r| f(r)).collect::<Vec<_>>();
        let (msgs, _, _) = spread(&col(&RunFigures::messages_per_case));
        let (reqs, _, _) = spread(&col(&RunFigures::requests_per_case));
        let _ = writeln!(
            s,
            "{:<31} {:>5} {:>20} {:>20} {:>8.2} {:>4} {:>8.2} {:>4} {:>6} {:>6}",
            p.label(),
            rs.len(),
            cell(&col(&RunFigures::exempt_share), 1),
            cell(&col(&RunFigures::counted_share), 1),
            msgs,
            rs.iter().map(|r| r.messages_max).max().unwrap_or(0),
            reqs,
            rs.iter().map(|r| r.requests_max).max().unwrap_or(0),
            rs.iter().map(|r| r.late).sum::<usize>(),
            rs.iter().map(|r| r.other).sum::<usize>(),
        );
    }
    s
}

/// The goal line: learned slots against the manual routine, with the caps and late shipments.
pub fn goal(runs: &[RunFigures]) -> String {
    let g = gaps(runs, Policy::LearnedSlots, Policy::Manual);
    if g.is_empty() {
        return "goal: needs both the manual and the learned policy".into();
    }
    let (mean, lo, hi) = spread(&g);
    let learned = runs_of(runs, Policy::LearnedSlots);
    let late: usize = learned.iter().map(|r| r.late).sum();
    let over_cap = learned.iter().any(|r| {
        r.requests_max > r.cap_requests as usize || r.messages_max > r.cap_requests as usize + 1
    });
    let fixed = gaps(runs, Policy::FixedSlots, Policy::Manual);
    let (fmean, flo, fhi) = spread(&fixed);
    format!(
        "learned − manual: {mean:+.1} points exempt [{lo:+.1} to {hi:+.1} over {} seeds] (goal +20: {}); \
         fixed − manual: {fmean:+.1} [{flo:+.1} to {fhi:+.1}]; learned late shipments {late} (goal 0: {}); \
         learned within the message cap: {}",
        g.len(),
        met(mean >= 20.0),
        met(late == 0),
        if over_cap { "NO" } else { "yes" }
    )
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// How soon the messages to buyers who read were opened, per policy (all seeds together).
pub fn opening_delays(runs: &[RunFigures]) -> String {
    let mut s = String::from(
        "opening delay of messages to buyers who read (share of those messages; of the opened ones):\n",
    );
    for p in Policy::ALL {
        let rs = runs_of(runs, p);
        let mut o = [0usize; 5];
        for r in &rs {
            for (a, b) in o.iter_mut().zip(r.opened) {
                *a += b;
            }
        }
        let all: usize = o.iter().sum();
        let opened: usize = o[..4].iter().sum();
        if all == 0 {
            continue;
        }
        let cum = |k: usize| 100.0 * o[..k].iter().sum::<usize>() as f64 / opened.max(1) as f64;
        let _ = writeln!(
            s,
            "  {:<31} opened {:>5.1}%; of those within 1 h {:>5.1}%, 6 h {:>5.1}%, 24 h {:>5.1}%",
            p.label(),
            100.0 * opened as f64 / all as f64,
            cum(1),
            cum(2),
            cum(3)
        );
    }
    s
}

/// One row per seed and policy.
pub fn write_csv(path: &Path, runs: &[RunFigures]) -> Result<()> {
    let mut s = String::from(
        "seed,policy,orders,exempt,exempt_pct,counted,counted_pct,late,other,messages_per_case,\
         messages_max,requests_per_case,requests_max,request_cap,broken_rules,virtual_days,wall_secs\n",
    );
    for r in runs {
        let _ = writeln!(
            s,
            "{},{},{},{},{:.2},{},{:.2},{},{},{:.3},{},{:.3},{},{},{},{:.2},{:.1}",
            r.seed,
            r.policy,
            r.orders,
            r.exempt,
            r.exempt_share(),
            r.counted,
            r.counted_share(),
            r.late,
            r.other,
            r.messages_per_case(),
            r.messages_max,
            r.requests_per_case(),
            r.requests_max,
            r.cap_requests,
            r.broken_rules.len(),
            r.virtual_days,
            r.wall_secs
        );
    }
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))
}

/// Every message of the evaluated orders, one row each, times in local time: what the lab drew
/// for its buyer and when they read it.
pub fn write_messages_csv(path: &Path, runs: &[RunFigures]) -> Result<()> {
    let tz = super::population::zone();
    let local = |t: jiff::Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut s = String::from(
        "seed,policy,order,placed,ship_by,sent,kind,read,buyer_reads,buyer_complies,buyer_requests\n",
    );
    for r in runs {
        for m in &r.messages_trace {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{:?},{}",
                r.seed,
                r.policy,
                m.order_id,
                local(m.placed),
                local(m.ship_by),
                local(m.sent_at),
                if m.request { "request" } else { "apology" },
                m.read_at.map(local).unwrap_or_default(),
                m.buyer.reads,
                m.buyer.complies,
                m.requests_at.map(local).unwrap_or_default(),
            );
        }
    }
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))
}

/// Where a TrueType font is found for the chart's text: `KENZEN_CHART_FONT`, or Debian's DejaVu
/// Sans (fonts-dejavu-core).
fn font() -> Option<&'static [u8]> {
    let candidates = std::env::var("KENZEN_CHART_FONT").into_iter().chain(
        [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        ]
        .map(String::from),
    );
    for path in candidates {
        if let Ok(bytes) = std::fs::read(&path) {
            return Some(Box::leak(bytes.into_boxed_slice()));
        }
    }
    None
}

fn short(p: Policy) -> &'static str {
    match p {
        Policy::CancelAtOnce => "cancel at once",
        Policy::Manual => "manual routine",
        Policy::FixedSlots => "fixed slots",
        Policy::LearnedSlots => "learned*",
    }
}

/// One figure of a run, as a percentage.
type Measure = fn(&RunFigures) -> f64;

/// Draws the chart: per policy, the share of orders ending exempt and the share of cancels that
/// count, each a bar at the mean with the least–greatest range and one dot per seed, and on the
/// exempt side a line at `ceiling` (the share of buyers who read and would comply, in percent).
/// Returns false (and draws nothing) when no font is found.
pub fn chart(path: &Path, runs: &[RunFigures], title: &str, ceiling: f64) -> Result<bool> {
    use plotters::prelude::*;
    if !have_font() {
        return Ok(false);
    }
    let root = BitMapBackend::new(path, CHART_SIZE).into_drawing_area();
    draw(&root, runs, title, ceiling)?;
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// The same chart as SVG (text, so it can live in the repository beside the README; the
/// browser draws its letters, plotters measures them with the same font). Returns false (and
/// draws nothing) when no font is found.
pub fn chart_svg(path: &Path, runs: &[RunFigures], title: &str, ceiling: f64) -> Result<bool> {
    use plotters::prelude::*;
    if !have_font() {
        return Ok(false);
    }
    let root = SVGBackend::new(path, CHART_SIZE).into_drawing_area();
    draw(&root, runs, title, ceiling)?;
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// Registers the chart font once; false when none is found.
fn have_font() -> bool {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *REGISTERED.get_or_init(|| {
        font().is_some_and(|bytes| {
            plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, bytes)
                .is_ok()
        })
    })
}

const CHART_SIZE: (u32, u32) = (1200, 560);

fn draw<DB: plotters::prelude::DrawingBackend>(
    root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    runs: &[RunFigures],
    title: &str,
    ceiling: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    use plotters::prelude::*;
    let policies: Vec<Policy> = Policy::ALL
        .into_iter()
        .filter(|p| !runs_of(runs, *p).is_empty())
        .collect();
    let n = policies.len() as i32;
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (upper, footer) = root.split_vertically(510);
    footer.draw(&Text::new(
        "* kenzen learn_slots on, after a warm-up week of orders. Bars: mean over seeds; whiskers: min–max; dots: seeds.",
        (20, 10),
        ("sans-serif", 15),
    ))?;
    let panels = upper.split_evenly((1, 2));
    let measures: [(&str, Measure); 2] = [
        (
            "orders ending exempt from the cancel rate (%)",
            RunFigures::exempt_share,
        ),
        ("cancels that count (%)", RunFigures::counted_share),
    ];
    let colours = [
        RGBColor(120, 120, 120),
        RGBColor(214, 120, 40),
        RGBColor(60, 120, 200),
        RGBColor(40, 160, 90),
    ];
    for (k, (panel, (caption, measure))) in panels.iter().zip(measures).enumerate() {
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..108f64)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_labels(policies.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => policies
                    .get(*i as usize)
                    .map(|p| short(*p).to_string())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_label_style(("sans-serif", 14))
            .y_label_style(("sans-serif", 13))
            .draw()?;
        if k == 0 {
            let red = RGBColor(200, 40, 40);
            chart.draw_series(DashedLineSeries::new(
                [
                    (SegmentValue::Exact(0), ceiling),
                    (SegmentValue::Exact(n), ceiling),
                ],
                8,
                5,
                red.stroke_width(2),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("population ceiling {ceiling:.1}%: buyers who read and would comply"),
                (SegmentValue::Exact(0), ceiling + 12.0),
                ("sans-serif", 14).into_font().color(&red),
            )))?;
        }
        for (i, p) in policies.iter().enumerate() {
            let values: Vec<f64> = runs_of(runs, *p).iter().map(|r| measure(r)).collect();
            let (mean, lo, hi) = spread(&values);
            let colour = colours[Policy::ALL.iter().position(|q| q == p).unwrap_or(0)];
            let i = i as i32;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), mean),
                ],
                colour.mix(0.75).filled(),
            );
            bar.set_margin(0, 0, 18, 18);
            chart.draw_series(std::iter::once(bar))?;
            chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                SegmentValue::CenterOf(i),
                lo,
                mean,
                hi,
                BLACK.stroke_width(2),
                12,
            )))?;
            chart.draw_series(
                values
                    .iter()
                    .map(|v| Circle::new((SegmentValue::CenterOf(i), *v), 2, BLACK.filled())),
            )?;
            let centred = TextStyle::from(("sans-serif", 14).into_font()).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Bottom,
                ),
            );
            chart.draw_series(std::iter::once(Text::new(
                format!("{mean:.1}"),
                (SegmentValue::CenterOf(i), hi + 2.0),
                centred,
            )))?;
        }
    }
    Ok(())
}

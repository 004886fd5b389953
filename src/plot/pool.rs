//! Reducing a stream of frame columns to a bounded number for display: columns are combined in
//! pairs whenever the count doubles, so memory stays fixed however long the recording is.

/// How two columns become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Element-wise mean (spectra).
    Mean,
    /// Element 0 the minimum, element 1 the maximum (waveform envelopes `[min, max]`).
    MinMax,
}

/// Frame columns reduced to between `max_columns / 2` and `max_columns` (once that many frames
/// arrived), each covering `frames_per_column` consecutive frames.
#[derive(Debug, Clone)]
pub struct ColumnPool {
    combine: Combine,
    max_columns: usize,
    frames_per_column: usize,
    columns: Vec<Vec<f32>>,
    pending: Option<(Vec<f32>, usize)>,
}

impl ColumnPool {
    /// An empty pool keeping at most `max_columns` (at least 2) columns.
    pub fn new(combine: Combine, max_columns: usize) -> Self {
        Self {
            combine,
            max_columns: max_columns.max(2),
            frames_per_column: 1,
            columns: Vec::new(),
            pending: None,
        }
    }

    /// Adds one frame's column.
    pub fn push(&mut self, column: &[f32]) {
        let (acc, count) = self.pending.get_or_insert_with(|| (column.to_vec(), 0));
        if *count > 0 {
            merge(self.combine, acc, column, *count, 1);
        }
        *count += 1;
        if *count == self.frames_per_column {
            let (done, _) = self.pending.take().expect("just filled");
            self.columns.push(done);
            if self.columns.len() == self.max_columns {
                self.halve();
            }
        }
    }

    /// Frames each finished column covers.
    pub fn frames_per_column(&self) -> usize {
        self.frames_per_column
    }

    /// The columns, the last one possibly covering fewer frames.
    pub fn finish(mut self) -> Vec<Vec<f32>> {
        if let Some((partial, _)) = self.pending.take() {
            self.columns.push(partial);
        }
        self.columns
    }

    fn halve(&mut self) {
        let combine = self.combine;
        let columns = std::mem::take(&mut self.columns);
        self.columns = columns
            .chunks(2)
            .map(|pair| {
                let mut a = pair[0].clone();
                if let Some(b) = pair.get(1) {
                    merge(combine, &mut a, b, 1, 1);
                }
                a
            })
            .collect();
        self.frames_per_column *= 2;
    }
}

/// Combines `b` (weight `wb` frames) into `a` (weight `wa` frames).
fn merge(combine: Combine, a: &mut [f32], b: &[f32], wa: usize, wb: usize) {
    match combine {
        Combine::Mean => {
            let (wa, wb) = (wa as f32, wb as f32);
            for (x, y) in a.iter_mut().zip(b) {
                *x = (*x * wa + y * wb) / (wa + wb);
            }
        }
        Combine::MinMax => {
            a[0] = a[0].min(b[0]);
            a[1] = a[1].max(b[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_streams_stay_bounded_and_keep_the_mean() {
        let mut pool = ColumnPool::new(Combine::Mean, 100);
        for i in 0..10_000 {
            pool.push(&[i as f32]);
        }
        let per = pool.frames_per_column();
        let cols = pool.finish();
        assert!(cols.len() <= 100 && cols.len() >= 50, "{}", cols.len());
        assert_eq!(per, 128);
        // Column j covers frames j*per .. (j+1)*per: its mean is the middle frame index.
        for (j, c) in cols.iter().enumerate().take(cols.len() - 1) {
            let want = (j * per) as f32 + (per as f32 - 1.0) / 2.0;
            assert!((c[0] - want).abs() < 1e-2, "column {j}: {} vs {want}", c[0]);
        }
    }

    #[test]
    fn envelopes_keep_extremes() {
        let mut pool = ColumnPool::new(Combine::MinMax, 4);
        for i in 0..16 {
            let v = if i == 5 { 9.0 } else { 0.0 };
            pool.push(&[-v, v]);
        }
        let cols = pool.finish();
        assert_eq!(cols.len(), 2);
        assert_eq!(cols[0], vec![-9.0, 9.0]);
        assert_eq!(cols[1], vec![0.0, 0.0]);
    }

    #[test]
    fn short_streams_are_kept_frame_by_frame() {
        let mut pool = ColumnPool::new(Combine::Mean, 100);
        for i in 0..7 {
            pool.push(&[i as f32, 1.0]);
        }
        assert_eq!(pool.finish().len(), 7);
    }
}

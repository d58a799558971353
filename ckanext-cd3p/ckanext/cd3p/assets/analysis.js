/* CD3P analysis workspace: the chart of a grouped result (Chart.js), bars or a line.
 *
 * The numbers are also in the result's table, which needs no JavaScript. Labels are data, given
 * to Chart.js as text, never as HTML.
 */
(function () {
  'use strict';

  function drawChart(canvas) {
    if (!window.Chart) { return; }
    var spec = JSON.parse(canvas.getAttribute('data-cd3p-analysis-chart'));
    new window.Chart(canvas, {
      type: spec.type === 'line' ? 'line' : 'bar',
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series) {
          return {
            label: series.label,
            data: series.values,
            backgroundColor: '#2c6e9b',
            borderColor: '#1b4965',
            borderWidth: spec.type === 'line' ? 2 : 1,
            spanGaps: false
          };
        })
      },
      options: {
        locale: document.documentElement.lang || 'en',
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: true, labels: { color: '#1a1a1a' } } },
        scales: {
          x: { title: { display: true, text: spec.x, color: '#1a1a1a' }, ticks: { color: '#333' } },
          y: { beginAtZero: true, title: { display: true, text: spec.y, color: '#1a1a1a' }, ticks: { color: '#333' } }
        }
      }
    });
    canvas.setAttribute('data-drawn', 'true');
  }

  document.querySelectorAll('[data-cd3p-analysis-chart]').forEach(drawChart);
})();

// Energy & latency charts (Qt Charts; all series are small: layers x kinds
// bars, T + depth points, 10 histogram bins). Energy per layer stacked by
// event kind, energy / cumulative energy / latency per hardware step, and the
// per-core utilization histogram; hovering a bar or point shows the
// descriptor constant and its source. The data says where it comes from
// (cost-model estimate now; the simulator's measured ledger when core/sim
// lands) and the panel labels projected chips.
#pragma once

#include "charts/energy_data.h"

#include <QWidget>

#include <array>
#include <memory>

class QChartView;
class QLabel;
class QTabWidget;

namespace stc::views {

class EnergyLayerModel;

class ChartsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ChartsPanel(QWidget* parent = nullptr);

    void setData(std::shared_ptr<const EnergyChartData> data);
    const EnergyChartData* chartData() const { return data_.get(); }
    EnergyLayerModel* layerModel() const { return model_; }
    QTabWidget* tabs() const { return tabs_; }
    QChartView* layerChart() const { return layerView_; }
    QChartView* stepChart() const { return stepView_; }
    QChartView* utilizationChart() const { return utilView_; }
    QLabel* originLabel() const { return origin_; }
    QLabel* measuredLabel() const { return measured_; }
    // Text of the last hover (also shown as a tooltip).
    QString lastHoverText() const { return hover_; }
    // Layers shown in the stacked chart (top by energy, the rest summed).
    int shownLayers() const { return shownLayers_; }

    // Builds every chart now (tests, screenshots); normally only the visible one is built.
    void ensureBuilt();
    double lastBuildMs() const { return buildMs_; }

protected:
    void showEvent(QShowEvent* event) override;

private:
    void rebuild();
    void buildVisible();
    void buildLayerChart();
    void buildStepChart();
    void buildUtilizationChart();
    void showHover(const QString& html);

    std::shared_ptr<const EnergyChartData> data_;
    EnergyLayerModel* model_;
    QLabel* origin_;
    QLabel* measured_;
    QLabel* projected_;
    QTabWidget* tabs_;
    QChartView* layerView_;
    QChartView* stepView_;
    QChartView* utilView_;
    QString hover_;
    int shownLayers_ = 0;
    std::array<bool, 3> dirty_{true, true, true};
    double buildMs_ = 0;
};

} // namespace stc::views

// Energy & latency charts (Qt Charts; all series are small: layers x kinds
// bars, T + depth points, 10 histogram bins). Energy per layer stacked by
// event kind, energy / cumulative energy / latency per hardware step, and the
// per-core utilization histogram; hovering a bar or point shows the
// descriptor constant and its source. Two sources: the cost model's estimate
// (after every mapping) and core/sim's measured ledger (after a chip
// simulator run); the measured one is shown once it exists unless the user
// picks the estimate, and the panel always says which one is on screen. It
// labels projected chips.
#pragma once

#include "charts/energy_data.h"

#include <QWidget>

#include <array>
#include <memory>

class QChartView;
class QComboBox;
class QLabel;
class QTabWidget;
class QTimer;

namespace stc::views {

class EnergyLayerModel;

class ChartsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ChartsPanel(QWidget* parent = nullptr);

    enum class Source { Measured, Estimate };
    // The cost model's estimate of the current mapping (null clears both:
    // a measured ledger belongs to the mapping's package).
    void setEstimate(std::shared_ptr<const EnergyChartData> estimate);
    // core/sim's ledger of the last chip run (null: none).
    void setMeasured(std::shared_ptr<const EnergyChartData> measured);
    void setSource(Source source); // a user choice, kept across updates
    void restyle(); // rebuilds the charts in the current palette (theme change)
    Source source() const;
    QComboBox* sourceBox() const { return sourceBox_; }
    // What is on screen.
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
    void updateLabels();
    void choose();
    void buildVisible();
    void scheduleBuild();
    void buildLayerChart();
    void buildStepChart();
    void buildUtilizationChart();
    void showHover(const QString& html);

    std::shared_ptr<const EnergyChartData> data_, estimate_, ledger_;
    bool sourceChosen_ = false;
    QComboBox* sourceBox_;
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
    QTimer* buildTimer_;
};

} // namespace stc::views

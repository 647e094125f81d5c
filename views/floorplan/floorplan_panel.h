// The Floorplan panel: chip / chip count / objective / colouring controls,
// a "projected chip" banner, the layer list and the floorplan widget. It maps
// the pass pipeline's compiled module in the background (lane "map",
// stages.h mapModule) whenever a compile succeeds or a control changes; a
// newer request supersedes an older one (job generation). The estimate goes
// out to the charts through energyChanged(), the deployment package built
// from the mapping to the simulator through packageChanged().
#pragma once

#include "document/stages.h"
#include "floorplan/floorplan_widget.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QSpinBox;
class QSplitter;
class QTableView;

namespace stc::views {

class Document;
class JobRunner;
class FloorplanLayerModel;

class FloorplanPanel : public QWidget {
    Q_OBJECT
public:
    FloorplanPanel(Document* document, JobRunner* jobs, QWidget* parent = nullptr);

    FloorplanWidget* floorplan() const { return widget_; }
    FloorplanLayerModel* layerModel() const { return layers_; }
    QTableView* layerView() const { return list_; }
    QLabel* banner() const { return banner_; }
    QString statusText() const;
    std::shared_ptr<const FloorplanData> mapping() const { return data_; }
    std::shared_ptr<const EnergyChartData> energy() const { return energy_; }
    std::shared_ptr<const ChipPackage> package() const { return package_; }
    MapRequest request() const;
    void setRequest(const MapRequest& r); // updates the controls and remaps
    bool mappingRunning() const;
    int mapCount() const { return mapCount_; }
    double lastMapSeconds() const { return lastSeconds_; }

public slots:
    // Maps `compiled` (the pass pipeline's output) with the current controls.
    // `pipeline` (its text) is recorded in the package.
    void mapModule(ModulePtr compiled, const QString& pipeline = {});
    void remap();
    void selectLayer(int layer); // -1 clears; also selects the graph node
    bool selectLayerNamed(const QString& name); // false when no layer of the mapping has that name
    // Shows the placement an opened package records (instead of a mapping
    // of the compiled module) and hands the decoded package to the simulator
    // (packageChanged). Compiles do not replace it; changing chip, chip
    // count or objective maps the compiled module again.
    void showPackage(std::shared_ptr<const FloorplanData> floorplan, std::shared_ptr<const ChipPackage> package);
    bool showingPackage() const { return pinned_; }
    // core/sim's per-core counters of the last chip-simulator run of this
    // package (null: none; energy/activity colours fall back to the estimate).
    void setMeasurement(std::shared_ptr<const FloorMeasurement> measurement);

signals:
    void mapped(bool ok);
    void targetChanged(const QString& chip); // the chip chosen (by the user or by an opened package)
    void energyChanged(std::shared_ptr<const EnergyChartData> energy);
    void packageChanged(std::shared_ptr<const ChipPackage> package);

private:
    void setStatus(const QString& html);
    void showData();
    void fitLayerList();

    Document* doc_;
    JobRunner* jobs_;
    QComboBox* chip_;
    QSpinBox* chips_;
    QComboBox* objective_;
    QComboBox* color_;
    QLabel* banner_;
    QLabel* status_;
    QLabel* summary_;
    QTableView* list_;
    QSplitter* split_;
    FloorplanLayerModel* layers_;
    FloorplanWidget* widget_;
    ModulePtr compiled_;
    QString pipeline_;
    std::shared_ptr<const FloorplanData> data_;
    std::shared_ptr<const EnergyChartData> energy_;
    std::shared_ptr<const ChipPackage> package_;
    bool syncing_ = false;
    bool pinned_ = false; // showing an opened package
    int mapCount_ = 0;
    double lastSeconds_ = 0;
};

} // namespace stc::views

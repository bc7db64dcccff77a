//! Faults: a ZooKeeper restart in the middle of a rebalance, and a
//! controller failover while the cluster converges.

use std::time::Duration;

use strand_admin::RebalanceMode;
use strand_controller::Controller;
use strand_zk::ZkConfig;

use crate::common::*;

#[tokio::test]
async fn zookeeper_restart_mid_rebalance_then_convergence() -> TestResult {
    let (mut server, admin) = cluster(3).await;
    admin
        .add_resource(CLUSTER, "db", 24, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 3).await?;
    drop(admin);
    let mut sims = Vec::new();
    for i in 0..3 {
        sims.push(SimParticipant::start(&server, &format!("host_{}", 12000 + i)).await);
    }
    // Sessions long enough to outlive the restart.
    let config =
        ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(30));
    let ctl = Controller::start(config.clone(), CLUSTER, "ctl0").await?;
    let probe = strand_zk::Zk::connect(config.clone()).await?;
    eventually("the first transitions", || async {
        let applied: usize = {
            let mut n = 0;
            for sim in &sims {
                n += sim.applied.lock().await.len();
            }
            n
        };
        (applied > 0).then_some(())
    })
    .await;
    drop(probe);
    server.stop();
    server.restart()?;
    let zk = strand_zk::Zk::connect(config).await?;
    wait_view(&zk, "db", "convergence after the restart", |v| {
        every_partition(v, 24, &[("MASTER", 1), ("SLAVE", 2)])
    })
    .await;
    ctl.wait_converged(DEADLINE).await?;
    ctl.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn standby_controller_finishes_the_job() -> TestResult {
    let (server, admin) = cluster(3).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "db", 12, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 3).await?;
    let first = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    first.wait_leader(DEADLINE).await?;
    let second = Controller::start(zk_config(&server), CLUSTER, "ctl1").await?;
    let mut sims = Vec::new();
    for i in 0..3 {
        sims.push(SimParticipant::start(&server, &format!("host_{}", 12000 + i)).await);
    }
    // Kill the leader's session while it works.
    first
        .session()
        .ok_or("no session")?
        .expire_session()
        .await?;
    second.wait_leader(DEADLINE).await?;
    wait_view(&zk, "db", "converged by the standby", |v| {
        every_partition(v, 12, &[("MASTER", 1), ("SLAVE", 2)])
    })
    .await;
    second.wait_converged(DEADLINE).await?;
    first.shutdown().await?;
    second.shutdown().await?;
    Ok(())
}
